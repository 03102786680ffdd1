// Front-end "build": writes the page the Python server serves, stamped with the Node.js that built it.
const fs = require('node:fs');
const path = require('node:path');
const out = path.join(__dirname, '..', 'static');
fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(
  path.join(out, 'index.html'),
  `<h1>assets built by Node.js ${process.versions.node.split('.')[0]}</h1>\n`,
);
console.log('front-end assets written to static/');
