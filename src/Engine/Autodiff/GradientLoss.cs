namespace Amalgam.Engine.Autodiff;

/// <summary>Scalar losses the gradient graph computes from the model's float output.</summary>
public enum GradientLoss
{
    /// <summary>Mean over the batch of the softmax entropy of logits [batch, C]: mean_b -sum_c p log p.</summary>
    Entropy,

    /// <summary>Mean cross-entropy of logits [batch, C] with int64 labels [batch]: mean_b -log p(label_b).</summary>
    CrossEntropy,

    /// <summary>Mean log-probability of each sample's argmax class (Fisher information): mean_b log p(argmax_b).</summary>
    ArgmaxLogProbability,

    /// <summary>
    /// Information maximisation (SHOT, Liang et al., ICML 2020, eq. 3 with the diversity term) of
    /// logits [batch, C]: mean_b H(p_b) - w * H(mean_b p_b), w = <see cref="GradientRequest.ImWeight"/>.
    /// The first term is <see cref="Entropy"/>; the second rewards a batch whose predictions spread
    /// over the classes, which a collapsed model (every input one class) lacks.
    /// </summary>
    InformationMaximisation,

    /// <summary>Half the sum of squares of the output (any shape): 0.5 * sum y^2.</summary>
    HalfSumOfSquares,
}
