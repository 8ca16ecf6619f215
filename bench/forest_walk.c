/*
 * The machine's floor for isolation forest scoring (bench/screen-overhead.ts): the SAME forest
 * Modelship scores, walked in C (gcc -O2) over the same rows, two ways:
 *   walk   node by node per row, as scikit-learn's trees are walked (a branch per step);
 *   batch  the complete-tree layout Modelship uses (packages/core/src/anomaly/complete-trees.ts),
 *          eight rows at once through each tree, branch-free steps.
 * Usage: forest_walk DIR, where DIR holds meta.txt ("nodes trees rows width") and the arrays
 * roots.i32, feature.i32, value.f64, right.i32, x.f64 (rows × width) and expected.f64 (the mean
 * path lengths Modelship computed). Prints "walk_ns batch_ns mismatches depth" (ns per row, median of 7;
 * mismatches: rows whose mean path length differs from Modelship's, bit for bit, either way;
 * times are the process's CPU time, as bench/screen-overhead.ts measures ours).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <time.h>

static char *dir;

static void *slurp(const char *name, size_t bytes) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "rb");
  if (f == NULL) { perror(path); exit(2); }
  void *b = malloc(bytes ? bytes : 1);
  if (fread(b, 1, bytes, f) != bytes) { fprintf(stderr, "%s: short read\n", path); exit(2); }
  fclose(f);
  return b;
}

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t); /* CPU time: a shared machine's wall clock counts others' turns */
  return t.tv_sec * 1e9 + t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Rows whose mean path length (sum / trees, rounded as ours is) differs from Modelship's, bit for bit. */
static int check(const double *sums, const double *expected, int rows, int trees) {
  int bad = 0;
  for (int i = 0; i < rows; i++) {
    double mean = sums[i] / trees;
    bad += memcmp(&mean, &expected[i], 8) != 0;
  }
  return bad;
}

static int *feature, *right, *roots;
static double *value;
static int depth, inner, leaves;
static int *cf;
static double *cs, *cl;

static int depth_of(int node, int d) {
  if (feature[node] < 0) return d;
  int a = depth_of(node + 1, d + 1), b = depth_of(right[node], d + 1);
  return a > b ? a : b;
}

static void place(int t, int node, int pos, int d) {
  if (d == depth) { cl[(size_t)t * leaves + pos - inner] = value[node]; return; }
  int split = feature[node] >= 0;
  cf[(size_t)t * inner + pos] = split ? feature[node] : 0;
  cs[(size_t)t * inner + pos] = split ? value[node] : INFINITY;
  place(t, split ? node + 1 : node, 2 * pos + 1, d + 1);
  place(t, split ? right[node] : node, 2 * pos + 2, d + 1);
}

int main(int argc, char **argv) {
  if (argc != 2) { fprintf(stderr, "usage: forest_walk DIR\n"); return 2; }
  dir = argv[1];
  int nodes, trees, rows, width;
  char meta[4096];
  snprintf(meta, sizeof meta, "%s/meta.txt", dir);
  FILE *m = fopen(meta, "r");
  if (m == NULL || fscanf(m, "%d %d %d %d", &nodes, &trees, &rows, &width) != 4) { fprintf(stderr, "bad meta.txt\n"); return 2; }
  fclose(m);
  roots = slurp("roots.i32", 4 * (size_t)trees);
  feature = slurp("feature.i32", 4 * (size_t)nodes);
  value = slurp("value.f64", 8 * (size_t)nodes);
  right = slurp("right.i32", 4 * (size_t)nodes);
  const double *x = slurp("x.f64", 8 * (size_t)rows * width);
  const double *expected = slurp("expected.f64", 8 * (size_t)rows);
  double *out = malloc(8 * (size_t)rows);

  depth = 0;
  for (int t = 0; t < trees; t++) { int d = depth_of(roots[t], 0); if (d > depth) depth = d; }
  inner = (1 << depth) - 1;
  leaves = 1 << depth;
  cf = malloc(4 * (size_t)trees * inner + 4);
  cs = malloc(8 * (size_t)trees * inner + 8);
  cl = malloc(8 * (size_t)trees * leaves);
  for (int t = 0; t < trees; t++) place(t, roots[t], 0, 0);

  double walk[7], batch[7];
  int mismatches = 0;
  for (int r = -1; r < 7; r++) {
    double t0 = now_ns();
    for (int i = 0; i < rows; i++) {
      const double *xi = x + (size_t)i * width;
      double s = 0;
      for (int t = 0; t < trees; t++) {
        int node = roots[t], f = feature[node];
        while (f >= 0) { node = xi[f] <= value[node] ? node + 1 : right[node]; f = feature[node]; }
        s += value[node];
      }
      out[i] = s;
    }
    double t1 = now_ns();
    if (r < 0) mismatches += check(out, expected, rows, trees);
    else walk[r] = (t1 - t0) / rows;

    t0 = now_ns();
    int whole = rows - rows % 8;
    memset(out, 0, 8 * (size_t)rows);
    for (int start = 0; start < whole; start += 256) {
      int end = start + 256 < whole ? start + 256 : whole;
      for (int t = 0; t < trees; t++) {
        const int *f = cf + (size_t)t * inner;
        const double *s = cs + (size_t)t * inner;
        const double *l = cl + (size_t)t * leaves - inner;
        for (int i = start; i < end; i += 8) {
          const double *a = x + (size_t)i * width;
          int p[8] = {0, 0, 0, 0, 0, 0, 0, 0};
          for (int k = 0; k < depth; k++)
            for (int j = 0; j < 8; j++) p[j] = 2 * p[j] + 2 - (a[j * width + f[p[j]]] <= s[p[j]]);
          for (int j = 0; j < 8; j++) out[i + j] += l[p[j]];
        }
      }
    }
    for (int i = whole; i < rows; i++) {
      double sum = 0;
      for (int t = 0; t < trees; t++) {
        int p = 0;
        for (int k = 0; k < depth; k++)
          p = 2 * p + 2 - (x[(size_t)i * width + cf[(size_t)t * inner + p]] <= cs[(size_t)t * inner + p]);
        sum += cl[(size_t)t * leaves - inner + p];
      }
      out[i] = sum;
    }
    t1 = now_ns();
    if (r < 0) mismatches += check(out, expected, rows, trees);
    else batch[r] = (t1 - t0) / rows;
  }
  qsort(walk, 7, sizeof(double), cmp);
  qsort(batch, 7, sizeof(double), cmp);
  printf("%.1f %.1f %d %d\n", walk[3], batch[3], mismatches, depth);
  return 0;
}
