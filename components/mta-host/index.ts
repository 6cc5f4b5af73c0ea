export * from "./config";
export * from "./layout";
export * from "./postfix";
export * from "./opendkim";
export * from "./dovecot";
export * from "./cloud-init";
export * from "./mail-host";
