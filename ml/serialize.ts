/**
 * Model envelope: a tagged, versioned binary container.
 *
 *   bytes 0-3  magic "R24M"
 *   bytes 4-7  header length H (uint32 LE)
 *   bytes 8..  JSON header { kind, version, engine, params, nFeatures, featureNames, featureSpec, arrays }
 *   then, 8-byte aligned, the raw little-endian typed arrays listed in `arrays` (name, type, offset, length).
 *
 * retail24 forests store their flat tree arrays; ml-random-forest models store their own toJSON()
 * as one UTF-8 array named "json". Loading refuses any other magic, kind or version.
 *
 * The per-node "cover" array (for TreeSHAP explanations) is an addition within version 1: envelopes
 * written before it load with an empty cover and explain with Saabas attribution; their scores do
 * not change, since scoring never reads cover. Loaders from before it ignore the extra array.
 */
import { ENGINES, ReferenceForest, type EngineName, type ProbabilisticModel } from './engines';
import { RandomForest, resolveForestOptions, type FlatForest, type ForestOptions } from './forest';
import { CalibratedModel, checkCalibrator } from './calibrated';
import type { Calibrator } from './calibration';
import { CorruptArtifactError } from '../common/errors';

export const MODEL_KIND = 'retail24.random-forest';
export const MODEL_VERSION = 1;
const MAGIC = 'R24M';

const TYPES = { f64: Float64Array, i32: Int32Array, u8: Uint8Array } as const;
type TypeName = keyof typeof TYPES;
type Stored = Float64Array | Int32Array | Uint8Array;

interface ArrayEntry {
  name: string;
  type: TypeName;
  offset: number;
  length: number;
}
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
  arrays: ArrayEntry[];
}

const typeName = (a: Stored): TypeName => (a instanceof Float64Array ? 'f64' : a instanceof Int32Array ? 'i32' : 'u8');

/** Check a loaded forest's arrays fit together, so a damaged blob fails here and not as NaN scores. */
function checkFlatForest(arrays: Record<string, Stored>, nFeatures: number): FlatForest {
  for (const name of ['feature', 'threshold', 'left', 'value', 'roots', 'depths', 'importances']) {
    if (!arrays[name]) throw new CorruptArtifactError(`model envelope lacks the "${name}" array of a retail24 forest`);
  }
  const flat = { ...arrays, cover: arrays.cover ?? new Float64Array(0) } as unknown as FlatForest;
  const nodes = flat.feature.length;
  const coverOk = flat.cover instanceof Float64Array && (flat.cover.length === 0 || flat.cover.length === nodes);
  const sameLength = flat.threshold.length === nodes && flat.left.length === nodes && flat.value.length === nodes && coverOk;
  let inRange = flat.roots.every((r) => r >= 0 && r < nodes);
  for (let i = 0; i < nodes && inRange && sameLength; i++) {
    const f = flat.feature[i];
    const c = flat.left[i];
    // a split needs both children (left, left + 1); a leaf points at itself
    inRange = f < nFeatures && (f < 0 ? f === -1 && c === i : c >= 0 && c + 1 < nodes);
    // TreeSHAP divides by covers: a zero, negative or non-finite one would turn explanations into NaN
    if (flat.cover.length > 0 && !(flat.cover[i] > 0 && flat.cover[i] < Infinity)) inRange = false;
  }
  if (!sameLength || !inRange || flat.roots.length !== flat.depths.length || flat.importances.length !== nFeatures) {
    throw new CorruptArtifactError('corrupt retail24 forest in model envelope: node arrays are inconsistent');
  }
  return flat;
}

/** Serialise a fitted model with its feature names, feature spec and (optional) calibrator. */
export function serializeModel(model: RandomForest | ReferenceForest, meta: { featureNames: string[]; featureSpec: unknown; calibrator?: Calibrator }): Buffer {
  if (meta.featureNames.length !== model.nFeatures) {
    throw new RangeError(`featureNames has ${meta.featureNames.length} names, the model has ${model.nFeatures} features`);
  }
  let engine: EngineName;
  let named: [string, Stored][];
  if (model instanceof RandomForest) {
    engine = ENGINES.retail24;
    // an empty cover (a forest loaded from an envelope without one) is left out: saved again, it stays such an envelope
    named = (Object.entries(model.flat) as [string, Stored][]).filter(([name, a]) => name !== 'cover' || a.length > 0);
  } else {
    engine = ENGINES.mlRandomForest;
    named = [['json', new TextEncoder().encode(JSON.stringify(model.toJSON()))]];
  }
  let offset = 0;
  const arrays: ArrayEntry[] = named.map(([name, a]) => {
    const entry = { name, type: typeName(a), offset, length: a.length };
    offset += Math.ceil(a.byteLength / 8) * 8;
    return entry;
  });
  const header: Header = {
    kind: MODEL_KIND, version: MODEL_VERSION, engine, params: model.options, nFeatures: model.nFeatures,
    featureNames: meta.featureNames, featureSpec: meta.featureSpec, ...(meta.calibrator ? { calibrator: meta.calibrator } : {}), arrays,
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const dataStart = Math.ceil((8 + json.length) / 8) * 8;
  const buf = Buffer.alloc(dataStart + offset);
  buf.write(MAGIC, 0, 'latin1');
  buf.writeUInt32LE(json.length, 4);
  json.copy(buf, 8);
  named.forEach(([, a], i) => {
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).copy(buf, dataStart + arrays[i].offset);
  });
  return buf;
}

/**
 * Load an envelope written by serializeModel; throws an Error naming what does not match.
 * `model` applies the envelope's calibrator (identity when there is none); `raw` is the forest alone.
 */
export function deserializeModel(buf: Buffer): { model: ProbabilisticModel; raw: ProbabilisticModel; calibrator: Calibrator; featureNames: string[]; featureSpec: unknown; engine: EngineName; params: object } {
  if (buf.length < 8 || buf.toString('latin1', 0, 4) !== MAGIC) throw new CorruptArtifactError('not a retail24 model envelope (bad magic bytes)');
  const headerLength = buf.readUInt32LE(4);
  if (8 + headerLength > buf.length) throw new CorruptArtifactError(`truncated model envelope: header length ${headerLength} exceeds ${buf.length} bytes`);
  const header = JSON.parse(buf.toString('utf8', 8, 8 + headerLength)) as Header;
  if (header.kind !== MODEL_KIND) throw new CorruptArtifactError(`unsupported model kind "${header.kind}", expected "${MODEL_KIND}"`);
  if (header.version !== MODEL_VERSION) throw new CorruptArtifactError(`unsupported ${MODEL_KIND} version ${header.version}, expected ${MODEL_VERSION}`);
  const dataStart = Math.ceil((8 + headerLength) / 8) * 8;
  const arrays: Record<string, Stored> = {};
  for (const e of header.arrays) {
    const Ctor = TYPES[e.type];
    if (!Ctor) throw new CorruptArtifactError(`model array "${e.name}" has unknown type "${e.type}"`);
    const start = dataStart + e.offset;
    const bytes = e.length * Ctor.BYTES_PER_ELEMENT;
    if (start + bytes > buf.length) throw new CorruptArtifactError(`truncated model envelope: array "${e.name}" runs past the end`);
    // copy into a fresh, aligned buffer: Buffers may share a pool at an unaligned offset
    const copy = new Uint8Array(bytes);
    copy.set(buf.subarray(start, start + bytes));
    arrays[e.name] = new Ctor(copy.buffer);
  }
  const params = resolveForestOptions(header.params);
  let model: ProbabilisticModel;
  if (header.engine === ENGINES.retail24) {
    const flat = checkFlatForest(arrays, header.nFeatures);
    model = new RandomForest(params, header.nFeatures, flat);
  } else if (header.engine === ENGINES.mlRandomForest) {
    const json: unknown = JSON.parse(new TextDecoder().decode(arrays.json));
    model = ReferenceForest.fromJSON(json, header.nFeatures, params);
  } else {
    throw new CorruptArtifactError(`unsupported engine "${String(header.engine)}" in model envelope`);
  }
  const calibrator = header.calibrator === undefined ? ({ kind: 'identity' } as const) : checkCalibrator(header.calibrator);
  const calibrated = calibrator.kind === 'identity' ? model : new CalibratedModel(model, calibrator);
  return { model: calibrated, raw: model, calibrator, featureNames: header.featureNames, featureSpec: header.featureSpec, engine: header.engine, params: header.params };
}
