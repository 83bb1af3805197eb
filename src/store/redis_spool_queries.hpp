// The `spool` command's queries (spool_queries.hpp) on the Redis store's data
// (redis_store.hpp has the layout): read with pipelined HGETALLs, replay and purge as one
// script each, so they are atomic against the replicas delivering meanwhile. A delivered
// delivery is deleted in Redis, so `spool show` of one finds nothing.
#pragma once

#include <string>

#include "store/redis_connection.hpp"
#include "store/spool_queries.hpp"

namespace dsb::store {

class RedisSpoolQueries final : public SpoolQueries {
 public:
  RedisSpoolQueries(RedisConnection& connection, std::string key_prefix)
      : connection_(connection), prefix_(std::move(key_prefix)) {}

  Result<std::vector<DeliveryRow>> deliveries() override;
  Result<std::optional<DeliveryDetail>> delivery(int64_t id) override;
  Result<std::vector<int64_t>> replay(const DeadLetterSelection& which, int64_t now_ms) override;
  Result<std::vector<int64_t>> purge(const DeadLetterSelection& which) override;

 private:
  // The rows of `ids` (missing ones skipped), in that order.
  Result<std::vector<DeliveryRow>> rows(const std::vector<int64_t>& ids,
                                        std::vector<std::string>* frame_types,
                                        std::vector<std::string>* headers,
                                        std::vector<std::string>* bodies);
  Result<std::vector<int64_t>> ids_of(const std::string& zset);
  Result<std::vector<int64_t>> run_change(bool replay, const DeadLetterSelection& which,
                                          int64_t now_ms);

  RedisConnection& connection_;
  const std::string prefix_;
};

}  // namespace dsb::store
