namespace Amalgam.Engine.Methods.AdaMerging;

/// <summary>Native objects a constructor creates one by one: kept in a list so a failure part-way frees what was made (newest first).</summary>
internal static class Owned
{
    public static T Add<T>(List<IDisposable> owned, T item) where T : IDisposable
    {
        owned.Add(item);
        return item;
    }

    public static void DisposeAll(List<IDisposable> owned)
    {
        for (int i = owned.Count - 1; i >= 0; i--) owned[i].Dispose();
    }
}
