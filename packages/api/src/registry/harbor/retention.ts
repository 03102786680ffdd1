/** The retention policy every tool project gets: keep the newest `keep` artifacts of each repository. */
export function desiredRetention(projectId: number, keep: number) {
  return {
    algorithm: 'or',
    rules: [
      {
        disabled: false,
        action: 'retain',
        template: 'latestPushedK',
        params: { latestPushedK: keep },
        tag_selectors: [
          { kind: 'doublestar', decoration: 'matches', pattern: '**', extras: '{"untagged":true}' },
        ],
        scope_selectors: { repository: [{ kind: 'doublestar', decoration: 'repoMatches', pattern: '**' }] },
      },
    ],
    trigger: { kind: 'Schedule', settings: { cron: '0 0 3 * * *' } },
    scope: { level: 'project', ref: projectId },
  };
}

type Policy = ReturnType<typeof desiredRetention>;

/** Whether Harbor's stored policy does what ours says (ids and fields Harbor adds are ignored). */
export function sameRetention(have: Record<string, unknown>, want: Policy): boolean {
  const rules = have.rules as Policy['rules'] | undefined;
  const r = rules?.length === 1 ? rules[0] : undefined;
  const scope = have.scope as Policy['scope'] | undefined;
  return (
    !!r &&
    !r.disabled &&
    r.action === 'retain' &&
    r.template === 'latestPushedK' &&
    Number(r.params?.latestPushedK) === want.rules[0]?.params.latestPushedK &&
    r.tag_selectors?.[0]?.pattern === '**' &&
    r.scope_selectors?.repository?.[0]?.pattern === '**' &&
    scope?.ref === want.scope.ref
  );
}
