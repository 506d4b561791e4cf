/* workload.c: freestanding C workload compiled both into a flat 64-bit guest (tests/guests/c) and into the host test: the results must match. */
#include <stdint.h>

struct workload_result {
	uint64_t primes, sort_checksum, crc, divs, fp_bits, strlen_sum, switch_sum, memops, ld_lo, ld_hi, ld_int;
};

static uint32_t lcg(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

static void isort(uint32_t *a, int n)
{
	for (int i = 1; i < n; i++) {
		uint32_t v = a[i];
		int j = i - 1;
		while (j >= 0 && a[j] > v) {
			a[j + 1] = a[j];
			j--;
		}
		a[j + 1] = v;
	}
}

static uint32_t crc32c(const uint8_t *p, int n)
{
	uint32_t crc = ~0u;
	for (int i = 0; i < n; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1)));
	}
	return ~crc;
}

static int classify(int x)
{
	switch (x % 9) {
	case 0: return 3;
	case 1: return x * 2;
	case 2: return x ^ 0x55;
	case 3: return -x;
	case 4: return x / 3;
	case 5: return x << 3;
	case 6: return x % 7;
	case 7: return 11;
	default: return x + 100;
	}
}

void workload_run(struct workload_result *r, uint8_t *scratch)
{
	/* sieve */
	uint8_t *sieve = scratch;
	int n = 20000;
	__builtin_memset(sieve, 1, n);
	sieve[0] = sieve[1] = 0;
	for (int i = 2; i * i < n; i++)
		if (sieve[i])
			for (int j = i * i; j < n; j += i)
				sieve[j] = 0;
	uint64_t cnt = 0;
	for (int i = 0; i < n; i++)
		cnt += sieve[i];
	r->primes = cnt;
	/* sort */
	uint32_t *arr = (uint32_t *)(void *)(scratch + 32768);
	uint32_t seed = 42;
	for (int i = 0; i < 600; i++)
		arr[i] = lcg(&seed);
	isort(arr, 600);
	uint64_t sum = 0;
	for (int i = 0; i < 600; i++)
		sum = sum * 31 + arr[i];
	r->sort_checksum = sum;
	r->crc = crc32c(scratch + 32768, 2400);
	/* 64-bit division and multiplication */
	uint64_t d = 0;
	for (uint64_t i = 1; i < 3000; i++)
		d += (0xfedcba9876543210ull / (i * 7 + 1)) ^ (i * 0x9e3779b97f4a7c15ull) % (i + 13);
	r->divs = d;
	/* double arithmetic (SSE2) */
	double x = 1.0;
	for (int i = 1; i < 200; i++)
		x = x * 1.0001 + (double)i / (x + 3.0) - (double)(i & 7) * 0.125;
	uint64_t bits;
	__builtin_memcpy(&bits, &x, 8);
	r->fp_bits = bits;
	/* strings */
	char *s = (char *)scratch + 40000;
	for (int i = 0; i < 300; i++)
		s[i] = (char)('a' + i % 26);
	s[300] = 0;
	uint64_t sl = 0;
	for (int k = 0; k < 50; k++) {
		const char *p = s + k;
		while (*p)
			p++;
		sl += (uint64_t)(p - s);
	}
	r->strlen_sum = sl;
	int64_t sw = 0;
	for (int i = 0; i < 5000; i++)
		sw += classify(i);
	r->switch_sum = (uint64_t)sw;
	/* memcpy/memmove-like copies of odd sizes */
	uint8_t *a = scratch + 50000, *b = scratch + 52000;
	for (int i = 0; i < 1500; i++)
		a[i] = (uint8_t)(i * 7);
	uint64_t m = 0;
	for (int len = 1; len < 1400; len += 37) {
		__builtin_memcpy(b, a + (len & 15), (unsigned)len);
		for (int i = 0; i < len; i += 13)
			m = m * 3 + b[i];
	}
	r->memops = m;
	/* long double: x87 on x86-64 */
	long double ld = 1.0L;
	for (int i = 1; i < 100; i++)
		ld = ld * 1.01L + (long double)i / 7.0L - (ld > 50.0L ? 3.0L : 0.0L);
	r->ld_lo = 0;
	r->ld_hi = 0;
	__builtin_memcpy(&r->ld_lo, &ld, 8);
	__builtin_memcpy(&r->ld_hi, (char *)&ld + 8, 2);
	r->ld_int = (uint64_t)(int64_t)(ld * 1000.0L);
}
