// Toolforge Node.js sample app: an express server on $PORT.
const express = require('express');

const app = express();
const port = Number(process.env.PORT || 8000);

app.get('/', (_req, res) => {
  res.type('text').send('Hello from the Toolforge Node.js sample app\n');
});

// What the image is made of, for the tests: the Node.js version, NODE_ENV, the build script's output and
// whether the dev dependency was pruned.
app.get('/info', (_req, res) => {
  let built = null;
  try {
    built = require('./build/info.json');
  } catch {}
  let devDependencyInImage = true;
  try {
    require.resolve('picocolors');
  } catch {
    devDependencyInImage = false;
  }
  res.json({ node: process.version, nodeEnv: process.env.NODE_ENV, built, devDependencyInImage });
});

app.listen(port, '0.0.0.0', () => process.stdout.write(`listening on ${port}\n`));
