// The public entry: everything another CDK app or a pipeline needs to reuse
// the function, the stack or the context parsing.
export * from './sse-function';
export * from './sse-alb';
export * from './sse-managed-instances';
export * from './sse-rest-api';
export * from './sse-table';
export * from './sse-stack';
export * from './context';
export * from './sse-app';
export * from './validation';
export * from './sse-monitoring';
export * from './sse-stage';
export * from './sse-pipeline';
