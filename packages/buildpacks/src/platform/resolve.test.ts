import { describe, expect, it } from 'vitest';
import type { Buildpack } from './descriptor.ts';
import type { DetectPlan } from './detect-plan.ts';
import { expandOrder, UnknownBuildpackError } from './order.ts';
import { type DetectOutcome, resolveGroups } from './resolve.ts';

function bp(id: string, order?: { group: { id: string; optional?: boolean }[] }[]): Buildpack {
  return {
    descriptor: {
      api: '0.12',
      buildpack: { id, version: '1.0.0', 'clear-env': false },
      ...(order
        ? {
            order: order.map((o) => ({
              group: o.group.map((g) => ({ id: g.id, optional: g.optional ?? false })),
            })),
          }
        : {}),
    },
    dir: `/cnb/buildpacks/${id}/1.0.0`,
    hostDir: `/x/${id}`,
  };
}

const plan = (p: Partial<DetectPlan>): DetectPlan => ({ provides: [], requires: [], or: [], ...p });
const pass = (p: Partial<DetectPlan> = {}): DetectOutcome => ({ code: 0, plan: plan(p), output: '' });
const fail: DetectOutcome = { code: 100, plan: undefined, output: 'no package.json' };
const error: DetectOutcome = { code: 1, plan: undefined, output: 'boom' };

function setup(bps: Buildpack[], results: Record<string, DetectOutcome>) {
  const byId = new Map(bps.map((b) => [b.descriptor.buildpack.id, b]));
  const calls: string[] = [];
  const run = async (b: Buildpack) => {
    calls.push(b.descriptor.buildpack.id);
    return results[b.descriptor.buildpack.id] ?? fail;
  };
  return { lookup: (id: string) => byId.get(id), run, calls };
}

describe('order expansion', () => {
  it('replaces a composite by each of its groups, depth first, and passes optional down', () => {
    const all = [
      bp('a'),
      bp('b'),
      bp('x'),
      bp('y'),
      bp('z'),
      bp('comp', [{ group: [{ id: 'x' }, { id: 'y' }] }, { group: [{ id: 'z' }] }]),
    ];
    const { lookup } = setup(all, {});
    const groups = expandOrder(
      [
        {
          group: [
            { id: 'a', optional: false },
            { id: 'comp', optional: true },
            { id: 'b', optional: false },
          ],
        },
      ],
      lookup,
    );
    expect(
      groups.map((g) => g.map((e) => `${e.buildpack.descriptor.buildpack.id}${e.optional ? '?' : ''}`)),
    ).toEqual([
      ['a', 'x?', 'y?', 'b'],
      ['a', 'z?', 'b'],
    ]);
  });

  it('skips an id already in the group and names unknown buildpacks', () => {
    const { lookup } = setup([bp('a')], {});
    expect(
      expandOrder(
        [
          {
            group: [
              { id: 'a', optional: false },
              { id: 'a', optional: true },
            ],
          },
        ],
        lookup,
      )[0],
    ).toHaveLength(1);
    expect(() => expandOrder([{ group: [{ id: 'nope', optional: false }] }], lookup)).toThrow(
      UnknownBuildpackError,
    );
  });
});

describe('detection and build plan resolution', () => {
  it('picks the first group whose required buildpacks all pass', async () => {
    const { lookup, run } = setup([bp('python'), bp('nodejs'), bp('procfile')], {
      nodejs: pass(),
      procfile: pass(),
    });
    const groups = expandOrder(
      [
        {
          group: [
            { id: 'python', optional: false },
            { id: 'procfile', optional: true },
          ],
        },
        {
          group: [
            { id: 'nodejs', optional: false },
            { id: 'procfile', optional: true },
          ],
        },
      ],
      lookup,
    );
    const r = await resolveGroups(groups, run);
    expect(r.ok && r.group.map((e) => e.buildpack.descriptor.buildpack.id)).toEqual(['nodejs', 'procfile']);
  });

  it('drops optional buildpacks that fail or error, but not required ones', async () => {
    const { lookup, run } = setup([bp('apt'), bp('nodejs'), bp('procfile')], {
      apt: error,
      nodejs: pass(),
      procfile: fail,
    });
    const groups = expandOrder(
      [
        {
          group: [
            { id: 'apt', optional: true },
            { id: 'nodejs', optional: false },
            { id: 'procfile', optional: true },
          ],
        },
      ],
      lookup,
    );
    const r = await resolveGroups(groups, run);
    expect(r.ok && r.group.map((e) => e.buildpack.descriptor.buildpack.id)).toEqual(['nodejs']);
  });

  it('a required buildpack that errors fails the detection as errored and reports what each said', async () => {
    const { lookup, run } = setup([bp('a'), bp('b')], { a: error, b: pass() });
    const r = await resolveGroups(
      expandOrder(
        [
          {
            group: [
              { id: 'a', optional: false },
              { id: 'b', optional: false },
            ],
          },
        ],
        lookup,
      ),
      run,
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errored).toBe(true);
    expect(r.reports[0]?.elements.find((e) => e.id === 'a')).toMatchObject({ code: 1, output: 'boom' });
  });

  it('resolves provides before requires and records providers and requirers with metadata', async () => {
    const { lookup, run } = setup([bp('node-engine'), bp('npm')], {
      'node-engine': pass({ provides: [{ name: 'node' }] }),
      npm: pass({ requires: [{ name: 'node', metadata: { version: '24.x', build: true } }] }),
    });
    const r = await resolveGroups(
      expandOrder(
        [
          {
            group: [
              { id: 'node-engine', optional: false },
              { id: 'npm', optional: false },
            ],
          },
        ],
        lookup,
      ),
      run,
    );
    expect(r.ok && r.plan).toEqual([
      {
        name: 'node',
        providers: [{ id: 'node-engine', version: '1.0.0' }],
        requires: [{ name: 'node', metadata: { version: '24.x', build: true } }],
      },
    ]);
  });

  it('fails a group when a required buildpack requires what nobody earlier provides, or provides what nobody requires', async () => {
    const early = setup([bp('npm'), bp('node-engine')], {
      npm: pass({ requires: [{ name: 'node' }] }),
      'node-engine': pass({ provides: [{ name: 'node' }] }),
    });
    const r1 = await resolveGroups(
      expandOrder(
        [
          {
            group: [
              { id: 'npm', optional: false },
              { id: 'node-engine', optional: false },
            ],
          },
        ],
        early.lookup,
      ),
      early.run,
    );
    expect(r1.ok).toBe(false);
    if (!r1.ok)
      expect(r1.reports[0]?.reason).toContain('npm requires node, which no earlier buildpack provides');
    const lonely = setup([bp('engine')], { engine: pass({ provides: [{ name: 'node' }] }) });
    const r2 = await resolveGroups(
      expandOrder([{ group: [{ id: 'engine', optional: false }] }], lonely.lookup),
      lonely.run,
    );
    expect(r2.ok).toBe(false);
  });

  it('removes an optional buildpack whose plan is unmet and resolves without it', async () => {
    const { lookup, run } = setup([bp('extra'), bp('main')], {
      extra: pass({ requires: [{ name: 'missing' }] }),
      main: pass(),
    });
    const r = await resolveGroups(
      expandOrder(
        [
          {
            group: [
              { id: 'extra', optional: true },
              { id: 'main', optional: false },
            ],
          },
        ],
        lookup,
      ),
      run,
    );
    expect(r.ok && r.group.map((e) => e.buildpack.descriptor.buildpack.id)).toEqual(['main']);
  });

  it('tries `or` alternatives in order when the first plan does not resolve', async () => {
    const { lookup, run } = setup([bp('node'), bp('app')], {
      node: pass({
        provides: [{ name: 'node' }],
        or: [{ provides: [{ name: 'node' }], requires: [{ name: 'node' }] }],
      }),
      app: pass(),
    });
    const r = await resolveGroups(
      expandOrder(
        [
          {
            group: [
              { id: 'node', optional: false },
              { id: 'app', optional: false },
            ],
          },
        ],
        lookup,
      ),
      run,
    );
    expect(r.ok && r.plan.map((e) => [e.name, e.providers.map((p) => p.id)])).toEqual([['node', ['node']]]);
  });

  it('shares detect results between groups (one run per buildpack when the caller caches)', async () => {
    const s = setup([bp('a'), bp('b')], { b: pass() });
    const cache = new Map<Buildpack, Promise<DetectOutcome>>();
    const cached = (b: Buildpack) => {
      if (!cache.has(b)) cache.set(b, s.run(b));
      return cache.get(b) as Promise<DetectOutcome>;
    };
    await resolveGroups(
      expandOrder(
        [
          {
            group: [
              { id: 'a', optional: false },
              { id: 'b', optional: false },
            ],
          },
          { group: [{ id: 'b', optional: false }] },
        ],
        s.lookup,
      ),
      cached,
    );
    expect(s.calls.sort()).toEqual(['a', 'b']);
  });
});
