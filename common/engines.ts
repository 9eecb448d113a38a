/** Engine names as stored in model envelopes, chosen by ENGINE and carried in training settings (ml/engines.ts registers each). */
export const ENGINE_NAMES = ['retail24', 'ml-random-forest'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];
