export {
  chiSquareDrift,
  chiSquareTest,
  fillZeros,
  jensenShannonDistance,
  type KsResult,
  kolmogorovSf,
  ksTwoSample,
  normalizedWasserstein,
  psi,
  twoProportionZTest,
  wassersteinDistance,
} from './drift-stats';
