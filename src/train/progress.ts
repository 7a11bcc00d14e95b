// Progress of an iterative trainer, reported once per iteration (a boosting round or a Newton
// step). The CLI renders it as a bar on a TTY and as plain lines otherwise.

export interface TrainProgress {
  /** 1-based iteration just finished. */
  iteration: number;
  /** Iteration budget (trees or max_iter); training may stop earlier. */
  total: number;
  /** Mean log-loss on the training rows after this iteration. */
  trainLoss: number;
  /** Mean log-loss on the validation rows, or null without a validation split. */
  validLoss: number | null;
}

export type ProgressCallback = (p: TrainProgress) => void;
