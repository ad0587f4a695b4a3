namespace Billing.Models
{
    /// <summary>An amount owed by a customer.</summary>
    public record Invoice(string Customer, decimal Total);
}
