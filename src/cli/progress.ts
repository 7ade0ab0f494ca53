import cliProgress from 'cli-progress';

/** A progress bar on a terminal only; silent in pipes and CI, so output stays byte-identical. */
export function progressReporter(label: string): { update: (fraction: number) => void; stop: () => void } {
  if (!process.stderr.isTTY || process.env.CI) return { update: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    {
      // The ETA makes a long run visibly long before the user has waited it out.
      format: `${label} [{bar}] {percentage}% | {duration_formatted} elapsed, ETA {eta_formatted}`,
      etaBuffer: 20,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  // Per mille, so that the ETA is re-estimated 10× per percent on long runs.
  bar.start(1000, 0);
  return {
    update: (f) => bar.update(Math.round(f * 1000)),
    stop: () => bar.stop(),
  };
}
