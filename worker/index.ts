import { buildApp } from "./app";

export { AccountLedger } from "../durable-objects/account";
export { AccountShard } from "../durable-objects/shard";

export default buildApp();
