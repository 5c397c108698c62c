using Amalgam.Kernels.Optim;
using Amalgam.Kernels;

namespace Amalgam.Engine.Training;

/// <summary>
/// Adam / AdamW (bias-corrected; decoupled weight decay when <see cref="AdamSettings.DecoupledWeightDecay"/>),
/// torch semantics; the kernel is <see cref="Kernels.Optim.Adam"/>. Owns the first and second moment
/// buffers (starting at zero) and the step count used for the bias correction.
/// </summary>
public sealed class AdamOptimizer : Optimizer
{
    private readonly Tensor[] _first, _second;
    private AdamSettings _settings;

    public AdamOptimizer(IEnumerable<Tensor> parameters, AdamSettings settings) : base(parameters)
    {
        settings.Validate();
        _settings = settings;
        _first = Enumerable.Range(0, Parameters.Count).Select(i => NewState(i, "exp_avg")).ToArray();
        _second = Enumerable.Range(0, Parameters.Count).Select(i => NewState(i, "exp_avg_sq")).ToArray();
    }

    public AdamSettings Settings => _settings;

    public override float LearningRate
    {
        get => _settings.LearningRate;
        set
        {
            var s = _settings with { LearningRate = value };
            s.Validate();
            _settings = s;
        }
    }

    public ReadOnlySpan<float> FirstMoment(int index) => _first[index].Read<float>();
    public ReadOnlySpan<float> SecondMoment(int index) => _second[index].Read<float>();

    protected override void Update(int index, Span<float> param, ReadOnlySpan<float> grad, long step) =>
        Kernels.Optim.Adam.Step(param, grad, _first[index].Write<float>(), _second[index].Write<float>(), _settings, step);
}
