/** Secure aggregation, server side: the protocol state machine, its transport driver, and the coordinator stage. */
export { SecAggServer, type SecAggRoundResult, type SecAggServerParams, type Outgoing } from './server';
export { runSecureAggregationRound, type SecAggTransport, type RoundOptions } from './round';
export { secureAggregationStage, hubTransport, type SecureAggregationStageOptions } from './stage';
export { AggregateTruth } from './truth';
export { fetchPlainInputs } from './plain-inputs';
export { checkSecureAggregationScenario } from './check';
