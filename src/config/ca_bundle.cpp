// check_ca_bundle (declared in checks.hpp): the same OpenSSL reader that
// SSL_CTX_load_verify_locations() uses when libwebsockets and libcurl load dingtalk.ca_file,
// so `check` refuses exactly the files that would make every TLS connection fail.
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

#include "config/checks.hpp"

namespace dsb::config {

Problem check_ca_bundle(std::string_view pem) {
  ERR_clear_error();
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())),
                                                BIO_free);
  if (!bio) return "cannot be checked: out of memory";
  auto free_infos = [](STACK_OF(X509_INFO) * infos) { sk_X509_INFO_pop_free(infos, X509_INFO_free); };
  std::unique_ptr<STACK_OF(X509_INFO), decltype(free_infos)> infos(
      PEM_X509_INFO_read_bio(bio.get(), nullptr, nullptr, nullptr), free_infos);
  // The reader leaves its reason on the error queue, which libwebsockets would otherwise
  // print as if it concerned its own next call.
  ERR_clear_error();
  if (!infos) return "is not a PEM certificate bundle (OpenSSL cannot read it)";
  int certificates = 0;
  for (int i = 0; i < sk_X509_INFO_num(infos.get()); ++i) {
    if (sk_X509_INFO_value(infos.get(), i)->x509 != nullptr) ++certificates;
  }
  if (certificates == 0) return "contains no PEM certificate (\"-----BEGIN CERTIFICATE-----\")";
  return std::nullopt;
}

}  // namespace dsb::config
