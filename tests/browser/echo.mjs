// The protected app in pwb-login's tests: a plain HTTP server on loopback
// that answers every request with what it received, as JSON (method, URL,
// every header line as sent, in order), so a test can see exactly which
// X-Pwb-* headers and cookies reached the app behind nginx or Apache.
//   node echo.mjs PORT     prints "echo listening PORT" when ready
import { createServer } from 'node:http';

const port = Number(process.argv[2]);
const server = createServer((req, res) => {
  const headers = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    headers.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
  }
  const body = JSON.stringify({ method: req.method, url: req.url, headers });
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(`${body}\n`);
});
server.on('error', (err) => {
  process.stderr.write(`echo: ${err.message}\n`);
  process.exit(1);
});
process.on('SIGTERM', () => process.exit(0));
server.listen(port, '127.0.0.1', () => process.stdout.write(`echo listening ${port}\n`));
