using Amalgam.Engine.Methods.AdaMerging;

namespace Amalgam.Engine.Tests.Methods.AdaMerging;

/// <summary>
/// dLoss/dlambda from the engine (fused merge, ORT backward, reduction against the task vectors)
/// against central finite differences of the engine's own loss in each raw coefficient, on the
/// K = 3 tasks derived from the CLIP-style fixture (base + random tau per task, own heads).
/// </summary>
public sealed class GradientTests
{
    private const double H = 1e-2;

    [TestCase(Granularity.Task)]
    [TestCase(Granularity.Layer)]
    public void GradientEqualsCentralDifferences(Granularity granularity)
    {
        using var problem = AdaMergingFixture.Open();
        using var trainer = AdaMergingTrainer.Create(problem, AdaMergingFixture.Data, AdaMergingFixture.Options(granularity), seed: 0);
        var rng = new Random(5);
        for (int i = 0; i < trainer.Raw.Length; i++) trainer.Raw[i] = (float)(0.2 + 0.6 * rng.NextDouble()); // inside (0, 1), unequal
        var gradient = new double[trainer.Raw.Length];
        trainer.Evaluate(step: 1, gradient);
        var scratch = new double[trainer.Raw.Length];
        double largest = gradient.Max(Math.Abs);
        Assert.That(largest, Is.GreaterThan(1e-3), "a gradient worth checking");
        for (int i = 0; i < trainer.Raw.Length; i++)
        {
            float saved = trainer.Raw[i];
            trainer.Raw[i] = saved + (float)H;
            double plus = trainer.Evaluate(1, scratch);
            trainer.Raw[i] = saved - (float)H;
            double minus = trainer.Evaluate(1, scratch);
            trainer.Raw[i] = saved;
            double h2 = (double)(saved + (float)H) - (saved - (float)H);
            double fd = (plus - minus) / h2;
            Assert.That(gradient[i], Is.EqualTo(fd).Within(2e-3 * largest + 1e-2 * Math.Abs(fd)), $"coefficient {i}");
        }
    }

    [Test]
    public void ClampIsFlatOutsideTheUnitInterval()
    {
        using var problem = AdaMergingFixture.Open();
        using var trainer = AdaMergingTrainer.Create(problem, AdaMergingFixture.Data, AdaMergingFixture.Options(Granularity.Task), seed: 0);
        trainer.Raw[0] = 1.25f;   // clamped to 1
        trainer.Raw[1] = -0.5f;   // clamped to 0
        trainer.Raw[2] = 0.4f;
        var gradient = new double[3];
        double loss = trainer.Evaluate(0, gradient);
        Assert.That(gradient[0], Is.EqualTo(0.0));
        Assert.That(gradient[1], Is.EqualTo(0.0));
        Assert.That(gradient[2], Is.Not.EqualTo(0.0));
        // The loss sees only the clamped values: moving a raw value outside [0, 1] changes nothing.
        trainer.Raw[0] = 3f;
        trainer.Raw[1] = -2f;
        Assert.That(trainer.Evaluate(0, new double[3]), Is.EqualTo(loss));
    }
}
