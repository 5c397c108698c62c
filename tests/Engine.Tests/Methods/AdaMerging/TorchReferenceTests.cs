using Amalgam.Engine.Methods.AdaMerging;

namespace Amalgam.Engine.Tests.Methods.AdaMerging;

/// <summary>
/// The engine against the official algorithm run in torch (make_adamerging_reference.py): the same
/// three task models and data, 20 steps in file order; raw coefficients after every step within
/// 1e-4 absolute and each step's summed entropy within 1e-4 relative.
/// </summary>
public sealed class TorchReferenceTests
{
    [TestCase(Granularity.Layer, "layer")]
    [TestCase(Granularity.Task, "task")]
    public void CoefficientsAndLossesFollowTorch(Granularity granularity, string prefix)
    {
        var (coefficients, shape) = AdaMergingFixture.Reference($"{prefix}.coefficients");
        var (losses, _) = AdaMergingFixture.Reference($"{prefix}.losses");
        int steps = losses.Length, k = (int)shape[1], layers = (int)shape[2];
        Assert.That(steps, Is.EqualTo(20));
        using var problem = AdaMergingFixture.Open();
        using var trainer = AdaMergingTrainer.Create(problem, AdaMergingFixture.Data, AdaMergingFixture.Options(granularity, steps), seed: 0);
        Assert.That(trainer.Raw, Has.Length.EqualTo(k * layers));
        for (int step = 0; step < steps; step++)
        {
            double loss = trainer.Step();
            Assert.That(loss, Is.EqualTo(losses[step]).Within(1e-4 * Math.Abs(losses[step])), $"loss of step {step + 1}");
            for (int t = 0; t < k; t++)
                for (int l = 0; l < layers; l++)
                {
                    double expected = coefficients[((step + 1) * k + t) * layers + l];
                    Assert.That(trainer.Raw[trainer.Layout.Index(l, t)], Is.EqualTo(expected).Within(1e-4),
                        $"step {step + 1}, task {t}, {(layers == 1 ? "task-wise" : trainer.Layout.Tensors[l])}");
                }
        }
        Assert.That(losses[^1], Is.LessThan(losses[0]), "the reference run lowers the entropy (it is a meaningful trajectory)");
    }
}
