export * from './version';
export * from './errors';
export * from './messages';
export * from './codec';
export { float32ToBytes, bytesToFloat32, firstNonFinite } from './tensor';
