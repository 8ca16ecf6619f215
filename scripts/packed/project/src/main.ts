// The page as a user writes it: @modelship/browser (wasm only) from node_modules.
import { loadModel } from '@modelship/browser';
import { expose } from './page';

expose(loadModel);
