/* Memory read bandwidth with 1..N threads: the bound of a decode step, which reads every
 * weight once (scripts/bench-worker.sh, docs/benchmarks.md). Sums 256 MiB of u64 (8x the
 * L3 of the development machine) per pass, best of 5 passes.
 *   cc -O2 -fopenmp scripts/membw.c -o membw && ./membw THREADS  -> GB/s */
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
	int threads = argc > 1 ? atoi(argv[1]) : 1;
	size_t n = (size_t)1 << 25;
	uint64_t *a = malloc(n * sizeof *a);
	if (!a || threads < 1) return 1;
	for (size_t i = 0; i < n; i++) a[i] = i;
	double best = 1e9;
	uint64_t sum = 0;
	for (int pass = 0; pass < 5; pass++) {
		double started = omp_get_wtime();
#pragma omp parallel for num_threads(threads) reduction(+ : sum) schedule(static)
		for (size_t i = 0; i < n; i += 4) sum += a[i] + a[i + 1] + a[i + 2] + a[i + 3];
		double seconds = omp_get_wtime() - started;
		if (seconds < best) best = seconds;
	}
	/* The sum is printed so the loop cannot be optimised away. */
	fprintf(stderr, "checksum %llu\n", (unsigned long long)sum);
	printf("%.1f\n", n * sizeof *a / best / 1e9);
	return 0;
}
