// Generated junk on the services endpoints (fuzz.endpoints.ts): see fuzz.shared.ts for what is sent and checked.
import { SERVICE_ENDPOINTS } from "./fuzz.endpoints";
import { fuzzSuite } from "./fuzz.shared";

fuzzSuite("services", SERVICE_ENDPOINTS);
