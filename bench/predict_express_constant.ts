/**
 * The framework's own cost: Express 5 with the same JSON body parser and limit as the API,
 * answering every POST /v1/predict with a constant. `PORT` env, prints "listening <port>";
 * `PREDICT_PROFILE_DIR` as for bench/predict-server.ts.
 */
import express from 'express';
import { startServerProfile } from './profile-server';

const app = express();
app.disable('x-powered-by');
app.set('etag', false);
app.use(express.json({ limit: '2mb' }));
const constant = { requestId: '00000000-0000-0000-0000-000000000000', model: { name: 'constant', version: 1, threshold: 0.5 }, user_id: 'u', probability: 0.5, decision: true };
app.post('/v1/predict', (req, res) => {
  if (Array.isArray(req.body)) res.json({ ...constant, predictions: req.body.map(() => ({ user_id: 'u', probability: 0.5, decision: true })) });
  else res.json(constant);
});
const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  void startServerProfile('express-constant').then((stop) => {
    const a = server.address();
    console.log(`listening ${typeof a === 'object' && a ? a.port : ''}`);
    process.on('SIGTERM', () => void (stop?.() ?? Promise.resolve()).finally(() => process.exit(0)));
  });
});
