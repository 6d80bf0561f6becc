/**
 * The admin API's response shapes, in one place: the routes return them (and are type-checked against
 * them), `/api/openapi.json` is generated from them, and the CLI imports their inferred types.
 */
export * from "./common";
export * from "./agents";
export * from "./datasets";
export * from "./runs";
export * from "./evaluations";
export * from "./library";
export * from "./promotions";
export * from "./canaryFigures";
export * from "./canary";
export * from "./protocols";
export * from "./usage";
export * from "./maintenance";
export * from "./feedback";
