import type { Build } from '../../contract/index.ts';
import type { BuildRecord } from '../../store/builds-repo.ts';

/** Build-time variable values are never sent back (they may be keys or passwords): names only. */
export const REDACTED = '<redacted>';

export function recordToBuild(r: BuildRecord, queuePosition?: number): Build {
  const done = r.status !== 'BUILD_PENDING' && r.status !== 'BUILD_RUNNING';
  return {
    build_id: r.id,
    status: r.status,
    message: r.message,
    start_time: r.startTime,
    end_time: r.endTime,
    parameters: {
      source_url: r.sourceUrl,
      ref: r.ref,
      envvars: Object.fromEntries(Object.keys(r.envvars).map((k) => [k, REDACTED])),
      image_name: r.imageName,
      use_latest_versions: r.useLatestVersions,
      use_deprecated_versions: r.useDeprecatedVersions,
    },
    destination_image: r.digest ? `${r.destinationImage}@${r.digest}` : r.destinationImage,
    resolved_ref: r.resolvedRef,
    phase: r.phase,
    ...(queuePosition ? { queue_position: queuePosition } : {}),
    ...(r.timings.length ? { timings: r.timings } : {}),
    ...(done && r.failureReason ? { failure_reason: r.failureReason } : {}),
    ...(r.hint ? { hint: r.hint } : {}),
    inputs: {
      ...(r.resolvedRef ? { commit: r.resolvedRef } : {}),
      ...(r.builderImage ? { builder_image: r.builderImage } : {}),
      ...(r.runImage ? { run_image: r.runImage } : {}),
      ...(r.envvarsSha256 ? { envvars_sha256: r.envvarsSha256 } : {}),
    },
  };
}
