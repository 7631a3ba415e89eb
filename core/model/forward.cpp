#include "core/model/forward.h"

#include <stdexcept>

namespace core::model {

std::shared_ptr<const Model> Model::load(const std::string& path, int n_threads) {
  auto m = std::shared_ptr<Model>(new Model());
  m->file_ = std::make_unique<GgufFile>(path);
  m->config_ = read_config(*m->file_);
  m->weights_ = load_weights(*m->file_, m->config_, n_threads);
  return m;
}

}  // namespace core::model
