/**
 * A Model that reports each of its predictions to a Monitor ({@link Monitor.wrap}), screening
 * the request first when given an input screen: for models used without a Deployer.
 */
import type { InputScreen, ScreenReport } from '../anomaly/screen';
import { invalidArgument } from '../errors';
import type { Model, PredictOptions } from '../model/model';
import type { ModelInputs } from '../tensor/coerce';
import type { NamedTensors } from '../tensor/tensor';
import type { PredictionRecord } from './series';

/** `model`, each prediction timed with `now` and given to `record`, screened first with `options.screen`. */
export function monitoredModel(
  model: Model,
  options: { screen?: InputScreen; onScreen?: (report: ScreenReport) => void },
  now: () => number,
  record: (r: PredictionRecord) => void,
): Model {
  const { screen, onScreen } = options;
  if (screen !== undefined && typeof screen?.screen !== 'function')
    throw invalidArgument('Monitor.wrap', 'screen must be an InputScreen', screen);
  if (onScreen !== undefined && typeof onScreen !== 'function')
    throw invalidArgument('Monitor.wrap', 'onScreen must be a function', onScreen);
  return {
    get name() {
      return model.name;
    },
    get version() {
      return model.version;
    },
    get signature() {
      return model.signature;
    },
    async predict(inputs: ModelInputs, options?: PredictOptions): Promise<NamedTensors> {
      const started = now();
      let report: ScreenReport | undefined;
      const done = (error?: unknown) =>
        record({
          model: model.name,
          version: model.version,
          latencyMs: now() - started,
          ...(error === undefined ? {} : { error }),
          ...(report === undefined ? {} : { screen: report }),
        });
      try {
        if (screen !== undefined) {
          try {
            report = screen.screen(inputs);
          } catch (e) {
            report = (e as { report?: ScreenReport }).report;
            throw e;
          }
          onScreen?.(report);
        }
        const out = await model.predict(inputs, options);
        done();
        return out;
      } catch (e) {
        done(e);
        throw e;
      }
    },
    dispose: () => model.dispose(),
  };
}
