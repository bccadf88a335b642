"""accord.reports"""
