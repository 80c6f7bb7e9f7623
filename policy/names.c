#include "policy.h"

const char *vigil_action_name(vigil_action a)
{
        switch (a) {
        case VIGIL_ACTION_ALLOW:
                return "allow";
        case VIGIL_ACTION_DENY:
                return "deny";
        case VIGIL_ACTION_HOLD:
                return "hold";
        case VIGIL_ACTION_AUDIT:
                return "audit";
        }
        return "deny";
}

const char *const vigil_mask_detectors[] = {
        "credit-card", "aws-access-key", "aws-secret-key", "private-key", "jwt", "github-token",
        "slack-token", "ssn-us", "email", "iban", "password-assignment", NULL,
};
