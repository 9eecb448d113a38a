/**
 * Model envelope: a tagged, versioned binary container.
 *
 *   bytes 0-3  magic "R24M"
 *   bytes 4-7  header length H (uint32 LE)
 *   bytes 8..  JSON header { kind, version, engine, params, nFeatures, featureNames, featureSpec, arrays }
 *   then, 8-byte aligned, the raw little-endian typed arrays listed in `arrays` (name, type, offset, length).
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

export const MODEL_KIND = 'retail24.random-forest';
export const MODEL_VERSION = 1;
const MAGIC = 'R24M';

const TYPES = { f64: Float64Array, i32: Int32Array, u8: Uint8Array } as const;
type TypeName = keyof typeof TYPES;
type Stored = StoredArray;

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

/** Serialise a fitted model with its feature names, feature spec and (optional) calibrator. */
export function serializeModel(model: ProbabilisticModel, meta: { featureNames: string[]; featureSpec: unknown; calibrator?: Calibrator }): Buffer {
  if (meta.featureNames.length !== model.nFeatures) {
    throw new RangeError(`featureNames has ${meta.featureNames.length} names, the model has ${model.nFeatures} features`);
  }
  const owner = engineOf(model);
  const engine = owner.name;
  const named = owner.toArrays(model);
  let offset = 0;
  const arrays: ArrayEntry[] = named.map(([name, a]) => {
    const entry = { name, type: typeName(a), offset, length: a.length };
    offset += Math.ceil(a.byteLength / 8) * 8;
    return entry;
  });
  const header: Header = {
    kind: MODEL_KIND, version: MODEL_VERSION, engine, params: owner.optionsOf(model) as ForestOptions, nFeatures: model.nFeatures,
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
  if (!(ENGINE_NAMES as readonly string[]).includes(header.engine)) throw new CorruptArtifactError(`unsupported engine "${String(header.engine)}" in model envelope`);
  const owner = engineNamed(header.engine);
  const model = owner.fromArrays(arrays, header.nFeatures, owner.resolveOptions(header.params as unknown as Record<string, unknown>));
  const calibrator = header.calibrator === undefined ? ({ kind: 'identity' } as const) : checkCalibrator(header.calibrator);
  const calibrated = calibrator.kind === 'identity' ? model : new CalibratedModel(model, calibrator);
  return { model: calibrated, raw: model, calibrator, featureNames: header.featureNames, featureSpec: header.featureSpec, engine: header.engine, params: header.params };
}
