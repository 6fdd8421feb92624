public enum IRPlaceholder {}
