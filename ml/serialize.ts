/**
 * Model envelope: the binary container of ml/container.ts under the magic "R24M", its JSON header
 * { kind, version, engine, params, nFeatures, featureNames, featureSpec, calibrator?, arrays } with
 * the array layout under `arrays` (types spelled f64, i32, u8).
 *
 * Each engine (ml/engines.ts) says which arrays it stores (retail24 forests their flat tree arrays,
 * ml-random-forest its own toJSON() as one UTF-8 array "json") and rebuilds its model from them;
 * the header's `engine` names it. Loading refuses any other magic, kind, version or engine.
 *
 * The per-node "cover" array (for TreeSHAP explanations) is an addition within version 1: envelopes
 * written before it load with an empty cover and explain with Saabas attribution; their scores do
 * not change, since scoring never reads cover. Loaders from before it ignore the extra array.
 */
import { engineNamed, engineOf, type EngineName, type ProbabilisticModel } from './engines';
import { ENGINE_NAMES } from '../common/engines';
import type { ForestOptions } from './forest-options';
import { CalibratedModel, checkCalibrator } from './calibrated';
import type { Calibrator } from './calibration';
import type { StoredArray } from './engine';
import { CorruptArtifactError } from '../common/errors';
import { readContainer, writeContainer, type ContainerFormat } from './container';

export const MODEL_KIND = 'retail24.random-forest';
export const MODEL_VERSION = 1;
const ENVELOPE: ContainerFormat = { what: 'model envelope', magic: 'R24M', layoutKey: 'arrays', types: { f64: Float64Array, i32: Int32Array, u8: Uint8Array } };

interface Header {
  kind: string;
  version: number;
  engine: EngineName;
  params: ForestOptions;
  nFeatures: number;
  featureNames: string[];
  featureSpec: unknown;
  /** Score -> probability map fitted on out-of-fold predictions; absent in envelopes written before calibration (identity). */
  calibrator?: Calibrator;
}

/** Serialise a fitted model with its feature names, feature spec and (optional) calibrator. */
export function serializeModel(model: ProbabilisticModel, meta: { featureNames: string[]; featureSpec: unknown; calibrator?: Calibrator }): Buffer {
  if (meta.featureNames.length !== model.nFeatures) {
    throw new RangeError(`featureNames has ${meta.featureNames.length} names, the model has ${model.nFeatures} features`);
  }
  const owner = engineOf(model);
  const engine = owner.name;
  const named = owner.toArrays(model);
  const header: Header = {
    kind: MODEL_KIND, version: MODEL_VERSION, engine, params: owner.optionsOf(model) as ForestOptions, nFeatures: model.nFeatures,
    featureNames: meta.featureNames, featureSpec: meta.featureSpec, ...(meta.calibrator ? { calibrator: meta.calibrator } : {}),
  };
  return writeContainer(ENVELOPE, { ...header }, named);
}

/**
 * Load an envelope written by serializeModel; throws an Error naming what does not match.
 * `model` applies the envelope's calibrator (identity when there is none); `raw` is the forest alone.
 */
export function deserializeModel(buf: Buffer): { model: ProbabilisticModel; raw: ProbabilisticModel; calibrator: Calibrator; featureNames: string[]; featureSpec: unknown; engine: EngineName; params: object } {
  const { header, arrays: stored } = readContainer<Header & Record<string, unknown>>(ENVELOPE, buf);
  if (header.kind !== MODEL_KIND) throw new CorruptArtifactError(`unsupported model kind "${header.kind}", expected "${MODEL_KIND}"`);
  if (header.version !== MODEL_VERSION) throw new CorruptArtifactError(`unsupported ${MODEL_KIND} version ${header.version}, expected ${MODEL_VERSION}`);
  const arrays = stored as Record<string, StoredArray>;
  if (!(ENGINE_NAMES as readonly string[]).includes(header.engine)) throw new CorruptArtifactError(`unsupported engine "${String(header.engine)}" in model envelope`);
  const owner = engineNamed(header.engine);
  const model = owner.fromArrays(arrays, header.nFeatures, owner.resolveOptions(header.params as unknown as Record<string, unknown>));
  const calibrator = header.calibrator === undefined ? ({ kind: 'identity' } as const) : checkCalibrator(header.calibrator);
  const calibrated = calibrator.kind === 'identity' ? model : new CalibratedModel(model, calibrator);
  return { model: calibrated, raw: model, calibrator, featureNames: header.featureNames, featureSpec: header.featureSpec, engine: header.engine, params: header.params };
}
