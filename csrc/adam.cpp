// One Adam update of one parameter, written with exactly the tensor operations of libtorch's
// C++ `torch::optim::Adam::step` (torch/csrc/api/src/optim/adam.cpp, no weight decay, no
// amsgrad), so that an optimizer whose state rowseq owns (and can checkpoint) gives the
// same bits as tch's `nn::Adam`, which wraps that C++ class and hides its state.
// The caller holds no-grad mode; `step` is the step count after this update (1-based).
#include <ATen/core/Tensor.h>
#include <ATen/TensorOperators.h>
#include <c10/util/Exception.h>
#include <cmath>
#include <exception>

#include "ffi_error.h"

extern "C" int rowseq_adam_update(at::Tensor *p, const at::Tensor *grad, at::Tensor *exp_avg,
                                  at::Tensor *exp_avg_sq, int64_t step, double lr, double beta1,
                                  double beta2, double eps, char *err, size_t err_len) {
  try {
    TORCH_CHECK(p->sizes() == grad->sizes() && p->sizes() == exp_avg->sizes() &&
                    p->sizes() == exp_avg_sq->sizes(),
                "Adam: parameter ", p->sizes(), ", gradient ", grad->sizes(), " and moments ",
                exp_avg->sizes(), ", ", exp_avg_sq->sizes(), " differ in shape");
    auto bias_correction1 = 1 - std::pow(beta1, step);
    auto bias_correction2 = 1 - std::pow(beta2, step);
    exp_avg->mul_(beta1).add_(*grad, 1 - beta1);
    exp_avg_sq->mul_(beta2).addcmul_(*grad, *grad, 1 - beta2);
    at::Tensor denom = (exp_avg_sq->sqrt() / std::sqrt(bias_correction2)).add_(eps);
    auto step_size = lr / bias_correction1;
    p->addcdiv_(*exp_avg, denom, -step_size);
    return 0;
  }
  ROWSEQ_CATCH_ALL(err, err_len)
}
