// Generated junk on the accounts endpoints (fuzz.endpoints.ts): see fuzz.shared.ts for what is sent and checked.
import { ACCOUNT_ENDPOINTS } from "./fuzz.endpoints";
import { fuzzSuite } from "./fuzz.shared";

fuzzSuite("accounts", ACCOUNT_ENDPOINTS);
