import cliProgress from 'cli-progress';

/** A progress bar on a terminal only; silent in pipes and CI, so output stays byte-identical. */
export function progressReporter(label: string): { update: (fraction: number) => void; stop: () => void } {
  if (!process.stderr.isTTY || process.env.CI) return { update: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}%`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(100, 0);
  return {
    update: (f) => bar.update(Math.round(f * 100)),
    stop: () => bar.stop(),
  };
}
