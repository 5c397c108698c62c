using Amalgam.Kernels.Optim;
using Amalgam.Kernels;

namespace Amalgam.Engine.Training;

/// <summary>SGD with momentum and optional L2 weight decay (torch.optim.SGD semantics; the kernel is
/// <see cref="SgdMomentum"/>). Owns one velocity buffer per parameter, starting at zero.</summary>
public sealed class SgdOptimizer : Optimizer
{
    private readonly Tensor[] _velocity;

    public SgdOptimizer(IEnumerable<Tensor> parameters, float learningRate, float momentum = 0.9f, float weightDecay = 0f) : base(parameters)
    {
        if (!(learningRate >= 0) || float.IsInfinity(learningRate)) throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "must be finite and >= 0");
        if (!(momentum >= 0 && momentum < 1)) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "must be in [0, 1)");
        if (!(weightDecay >= 0) || float.IsInfinity(weightDecay)) throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "must be finite and >= 0");
        LearningRate = learningRate;
        Momentum = momentum;
        WeightDecay = weightDecay;
        _velocity = Enumerable.Range(0, Parameters.Count).Select(i => NewState(i, "velocity")).ToArray();
    }

    public override float LearningRate { get; set; }
    public float Momentum { get; }
    public float WeightDecay { get; }

    /// <summary>The velocity buffer of parameter <paramref name="index"/> (read-only view for inspection).</summary>
    public ReadOnlySpan<float> Velocity(int index) => _velocity[index].Read<float>();

    protected override void Update(int index, Span<float> param, ReadOnlySpan<float> grad, long step) =>
        SgdMomentum.Step(param, grad, _velocity[index].Write<float>(), LearningRate, Momentum, WeightDecay);
}
