// One Adam update of one parameter, written with exactly the tensor operations of libtorch's
// C++ `torch::optim::Adam::step` (torch/csrc/api/src/optim/adam.cpp, no weight decay, no
// amsgrad), so that an optimizer whose state rowseq owns (and can checkpoint) gives the
// same bits as tch's `nn::Adam`, which wraps that C++ class and hides its state.
// The caller holds no-grad mode; `step` is the step count after this update (1-based).
// Every operation is elementwise, so one update of a buffer that holds all parameters end to
// end (`train::adam`'s flat layout) gives each element the bits that one update per parameter gives
// it, in a tenth of the calls: at small widths those calls cost more than the arithmetic.
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

// Makes `grad` the gradient of the leaf `p` (`p.grad`), so that backward accumulates into it in
// place: how `train::adam` makes every gradient a view of one flat buffer.
extern "C" int rowseq_set_grad(at::Tensor *p, const at::Tensor *grad, char *err,
                               size_t err_len) {
  try {
    TORCH_CHECK(p->sizes() == grad->sizes() && p->scalar_type() == grad->scalar_type() &&
                    p->device() == grad->device(),
                "Adam: a gradient of ", grad->sizes(), " for a parameter of ", p->sizes(),
                " (or of another type or device)");
    p->mutable_grad() = *grad;
    return 0;
  }
  ROWSEQ_CATCH_ALL(err, err_len)
}
