"""accord.access"""
