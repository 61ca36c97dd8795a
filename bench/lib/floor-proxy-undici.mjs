// A reference beside the floor: the same bare pass-through, sending with undici instead of http.request.
import http from 'node:http';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { Pool } = require('undici');
const target = new URL(process.env.TARGET);
const pool = new Pool(target.origin, { connections: 256 });
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'expect', 'upgrade']);
const strip = (headers) => Object.fromEntries(Object.entries(headers).filter(([k]) => !HOP.has(k)));
http.createServer((req, res) => {
  const body = req.headers['content-length'] || req.headers['transfer-encoding'] ? req : null;
  pool.stream({ method: req.method, path: req.url, headers: strip(req.headers), body }, ({ statusCode, headers }) => {
    res.writeHead(statusCode, strip(headers));
    return res;
  }, (err) => {
    if (err && !res.headersSent) {
      res.statusCode = 502;
      res.end();
    }
  });
}).listen(Number(process.env.PORT), '127.0.0.1');
