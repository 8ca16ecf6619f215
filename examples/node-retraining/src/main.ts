/**
 * Acting on an alert: the Monitor watches a model's inputs against its training profile; when
 * the drift alert fires, its event carries the window of recent rows, and the retraining hook
 * labels them (here from a label store), retrains a TypeScript baseline on old and new rows,
 * checks it against the serving model on fresh labelled rows with paired tests, and ships it
 * as a canary that a guard rolls back if it errs.
 * Run: pnpm --filter node-retraining start
 */
import {
  type AlertEvent,
  compareModels,
  Deployer,
  LogisticRegression,
  Monitor,
  Profile,
  type Row,
} from '@modelship/node';

// The world: two features; a customer churns when 1.5·usage − tenure − 0.8·usage·tenure > 0.
// Early customers have low usage; later ones are heavy users, where the interaction matters.
let seed = 7;
const random = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};
const gauss = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
const truth = (r: Row) =>
  (r.usage as number) * 1.5 - (r.tenure as number) - 0.8 * (r.usage as number) * (r.tenure as number) > 0
    ? 1
    : 0;
const customers = (n: number, usage: number): Row[] =>
  Array.from({ length: n }, () => {
    const r: Row = { usage: usage + gauss(), tenure: 1 + gauss() };
    r.churn = truth(r);
    return r;
  });
const features = ['usage', 'tenure'];
const matrix = (rows: Row[]) => rows.map((r) => features.map((f) => r[f] as number));
const train = (rows: Row[], version: string) =>
  LogisticRegression.fit(
    matrix(rows),
    rows.map((r) => r.churn as number),
    { name: 'churn', version },
  );

const history = customers(600, 0);
const deployer = new Deployer();
const monitor = new Monitor({ windowMs: 60_000, intervalMs: 1_000 });
monitor.attach(deployer);
await deployer.deploy('churn', train(history, '1'), { version: '1', replace: false });
monitor.watchDrift('churn', Profile.fromDataset(history, { exclude: ['churn'] }), {
  features,
  windowRows: 300,
});
monitor.addAlert({ name: 'drift', metric: 'driftShare', above: 0.4, minRequests: 200 });
deployer.on('promoted', (e) => console.log(`PROMOTED  ${e.name} version ${e.version}`));
deployer.on('rolledBack', (e) => console.log(`ROLLBACK  ${e.name} version ${e.version}: ${e.reason}`));

// The retraining hook: what a team plugs into the alert.
let retraining: Promise<void> | undefined;
async function retrain(alert: AlertEvent): Promise<void> {
  const window = alert.rows ?? [];
  console.log(`ALERT     ${alert.message}`);
  // Label the window's rows (a label store, a review queue, a delayed join…).
  const labelled = window.map((r) => ({ ...r, churn: truth(r) }));
  const candidate = train([...history, ...labelled], '2');
  const fresh = customers(400, 2.5);
  const current = deployer.model('churn', { version: '1' });
  const report = await compareModels(current, candidate, fresh, { label: 'churn', features });
  const accuracy = report.tests.find((t) => t.metric === 'accuracy')!;
  console.log(
    `RETRAINED on ${labelled.length} new rows: accuracy ${accuracy.a.toFixed(3)} → ${accuracy.b.toFixed(3)} (p=${accuracy.pValue.toExponential(1)}, better: ${accuracy.better ?? 'neither'})`,
  );
  if (accuracy.better !== 'b') return;
  await deployer.deploy('churn', candidate, {
    version: '2',
    policy: {
      type: 'rollout',
      steps: [{ weight: 0.5, minRequests: 50 }],
      guards: { minRequests: 20, maxErrorRate: 0.05 },
    },
  });
}
monitor.on('alert', (a) => {
  if (a.rule === 'drift' && retraining === undefined) retraining = retrain(a);
});

// Traffic: customers move to heavy usage; the Monitor checks every 100 requests.
for (let i = 0; i < 1200; i++) {
  const [r] = customers(1, i < 200 ? 0 : 2.5);
  await deployer.predict('churn', { features: [matrix([r!])[0]!] });
  if (i % 100 === 99) monitor.check();
  if (retraining !== undefined) await retraining;
}
const status = deployer.status('churn');
console.log(
  `SERVING   ${status.versions.map((v) => `v${v.version} ${Math.round(v.traffic * 100)}%`).join(', ')}`,
);
await deployer.close();
