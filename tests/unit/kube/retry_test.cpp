// The retry policy of kube-api.md as pure functions: which statuses are retried, the backoff
// bounds, and Retry-After parsing.
#include <doctest/doctest.h>

#include "kube/retry.h"

using namespace meshtrust;
using namespace std::chrono_literals;

TEST_CASE("kube.retry: 429 and 5xx are retried; 4xx answers and 501/505 are not") {
  for (int s : {429, 500, 502, 503, 504, 599}) CHECK(kube::retryable_status(s));
  for (int s : {200, 201, 400, 401, 403, 404, 409, 413, 415, 422, 501, 505}) CHECK_FALSE(kube::retryable_status(s));
}

TEST_CASE("kube.retry: backoff doubles, is capped, and jitters within [d/2, d]") {
  CHECK(kube::backoff_delay(1, 100ms, 5s, 0.0) == 50ms);
  CHECK(kube::backoff_delay(1, 100ms, 5s, 0.999999) == 99ms);
  CHECK(kube::backoff_delay(2, 100ms, 5s, 0.0) == 100ms);
  CHECK(kube::backoff_delay(3, 100ms, 5s, 0.5) == 300ms);
  CHECK(kube::backoff_delay(10, 100ms, 5s, 0.0) == 2500ms);
  CHECK(kube::backoff_delay(10, 100ms, 5s, 1.0) == 5000ms);
  CHECK(kube::backoff_delay(1000, 100ms, 5s, 1.0) == 5000ms);  // no overflow
}

TEST_CASE("kube.retry: Retry-After in seconds; anything else falls back to backoff") {
  CHECK(kube::parse_retry_after("2") == 2s);
  CHECK(kube::parse_retry_after(" 17 ") == 17s);
  CHECK(kube::parse_retry_after("0") == 0s);
  CHECK_FALSE(kube::parse_retry_after(""));
  CHECK_FALSE(kube::parse_retry_after("-1"));
  CHECK_FALSE(kube::parse_retry_after("1.5"));
  CHECK_FALSE(kube::parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"));
  CHECK_FALSE(kube::parse_retry_after("99999999999"));
}
