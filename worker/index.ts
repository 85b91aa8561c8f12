import { buildApp } from "./app";

export { AccountLedger } from "../durable-objects/account";

export default buildApp();
