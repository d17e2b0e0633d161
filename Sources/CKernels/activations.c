// StyleGAN2's bias_act for a synthesis layer (networks_stylegan2.py SynthesisLayer.forward: noise added,
// then bias, leaky ReLU, gain, clamp) in one pass over the output, compiled for AVX-512 and AVX2: in Swift
// these were two passes, 4 floats wide. Same operations in the same order, no FMA contraction.
#include "ckernels.h"
#include "multiversion.h"

#pragma clang fp contract(off)

AVZ_KERNEL_BODY void avz_bias_act_body(float *restrict x, long channels, long count, const float *restrict bias,
                                       const float *restrict noise, float slope, float gain, float lim) {
    for (long c = 0; c < channels; c++) {
        float b = bias ? bias[c] : 0.0f;
        float *restrict p = x + c * count;
        for (long i = 0; i < count; i++) {
            float v = p[i];
            if (noise) v = v + noise[i];
            v = v + b;
            v = v < 0 ? v * slope : v;
            v = v * gain;
            // Swift.max(v, −lim) then Swift.min(·, lim), as Activation.apply wrote it.
            float m = -lim >= v ? -lim : v;
            p[i] = lim < m ? lim : m;
        }
    }
}
AVZ_KERNEL(avz_bias_act, (float *restrict x, long channels, long count, const float *restrict bias,
                          const float *restrict noise, float slope, float gain, float lim),
           (x, channels, count, bias, noise, slope, gain, lim))
