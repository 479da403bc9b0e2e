// One Adam update of one parameter, written with exactly the tensor operations of libtorch's
// C++ `torch::optim::Adam::step` (torch/csrc/api/src/optim/adam.cpp, no weight decay, no
// amsgrad), so that an optimizer whose state rowseq owns (and can checkpoint) gives the
// same bits as tch's `nn::Adam`, which wraps that C++ class and hides its state.
// The caller holds no-grad mode; `step` is the step count after this update (1-based).
// Every operation is elementwise, so one update of a buffer that holds all parameters end to
// end (`rowseq_adam_flatten`) gives each element the bits that one update per parameter gives
// it, in a tenth of the calls: at small widths those calls cost more than the arithmetic.
#include <ATen/ATen.h>
#include <ATen/TensorOperators.h>
#include <c10/core/GradMode.h>
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

// Lays `n` parameters out end to end in one buffer, for one Adam update of all of them: copies
// their values, in order, into a new flat tensor [N], makes each parameter a view of its part
// (set_data: every handle on the parameter sees it), and gives each a gradient that is a view
// of a second, zeroed flat tensor [N], into which backward then accumulates in place. Writes
// both flat tensors. The parameters must be leaves of one type and device.
extern "C" int rowseq_adam_flatten(at::Tensor **params, size_t n, at::Tensor **flat,
                                   at::Tensor **grads, char *err, size_t err_len) {
  try {
    TORCH_CHECK(n > 0, "Adam: no parameters to lay out");
    c10::NoGradGuard no_grad;
    const at::Tensor &first = *params[0];
    int64_t total = 0;
    for (size_t i = 0; i < n; ++i) {
      const at::Tensor &p = *params[i];
      TORCH_CHECK(p.scalar_type() == first.scalar_type() && p.device() == first.device(),
                  "Adam: parameters of different types or devices cannot share a buffer");
      TORCH_CHECK(p.is_leaf(), "Adam: parameter ", i, " is not a leaf");
      total += p.numel();
    }
    at::Tensor f = at::empty({total}, first.options());
    at::Tensor g = at::zeros({total}, first.options());
    int64_t offset = 0;
    for (size_t i = 0; i < n; ++i) {
      at::Tensor &p = *params[i];
      const int64_t k = p.numel();
      at::Tensor values = f.narrow(0, offset, k).view(p.sizes());
      values.copy_(p);
      p.set_data(values);
      p.mutable_grad() = g.narrow(0, offset, k).view(p.sizes());
      offset += k;
    }
    *flat = new at::Tensor(f);
    *grads = new at::Tensor(g);
    return 0;
  }
  ROWSEQ_CATCH_ALL(err, err_len)
}
