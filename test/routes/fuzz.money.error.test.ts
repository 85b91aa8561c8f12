// Generated junk on the money endpoints (fuzz.endpoints.ts): see fuzz.shared.ts for what is sent and checked.
import { MONEY_ENDPOINTS } from "./fuzz.endpoints";
import { fuzzSuite } from "./fuzz.shared";

fuzzSuite("money", MONEY_ENDPOINTS);
