import { PSI_THRESHOLDS } from '../ml/drift';
export { PRODUCTION_ALIAS } from '../common/constants';

/** PSI reference lines on the drift chart (Siddiqi's rule of thumb, see ml/drift.ts). */
export const PSI_BANDS = [
  { at: PSI_THRESHOLDS.warning, label: `${PSI_THRESHOLDS.warning} some shift`, color: '#e0a100' },
  { at: PSI_THRESHOLDS.drift, label: `${PSI_THRESHOLDS.drift} major shift`, color: '#b42318' },
];
