// The entry of dist/wsgateway.min.js: everything in index.ts on the global WSGateway.
export * from "./index.js";
