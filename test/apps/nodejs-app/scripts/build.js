// The `build` script: runs at build time with the dev dependencies installed (picocolors is one), and
// writes build/info.json, which the server reads. Its output only depends on the sources, so rebuilding
// the same commit gives the same image.
const fs = require('node:fs');
const path = require('node:path');
const pc = require('picocolors');

const info = { builtWith: 'npm run build', devDependencyAtBuild: typeof pc.green === 'function' };
fs.mkdirSync(path.join(__dirname, '..', 'build'), { recursive: true });
fs.writeFileSync(path.join(__dirname, '..', 'build', 'info.json'), `${JSON.stringify(info)}\n`);
process.stdout.write(`${pc.green('build/info.json written')}\n`);
