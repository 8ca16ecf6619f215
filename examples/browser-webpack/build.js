// Builds the example with webpack's Node API (no webpack-cli needed): `node build.js`.
import webpack from 'webpack';
import config from './webpack.config.js';

export function buildExample() {
  return new Promise((resolve, reject) => {
    webpack(config, (err, stats) => {
      if (err) reject(err);
      else if (stats.hasErrors()) reject(new Error(stats.toString({ all: false, errors: true })));
      else resolve(stats.toJson({ all: false, assets: true }).assets.map((a) => a.name));
    });
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log((await buildExample()).join('\n'));
}
